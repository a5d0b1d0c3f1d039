"""Backups taken while a drill runs, and restores into a new cluster: what the policy's "data loss
may occur depending on your backup strategy" is measured against (the rpo checker).

    model     Backup / Restore records, as `backup` / `restore-*` events of the history (pure)
    catalog   where the backups of a running drill are listed, for the restore step to find
    dockerio  docker exec / archive helpers shared by the component modules
    postgres  pg_dump -Fc in an exported snapshot; pg_basebackup from a paused replica
    rabbitmq  definitions export / import through the management API
    mongo     mongodump / mongorestore --oplog from a helper container of the mongo image
    schedule  a thread taking a backup every `interval` while the workload runs
"""
