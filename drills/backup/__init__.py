"""Backups taken while a drill runs, and restores into a new cluster: what the policy's "data loss
may occur depending on your backup strategy" is measured against (the rpo checker).

    model     Backup / Restore records, as `backup` / `restore-*` events of the history (pure)
    catalog   where the backups of a running drill are listed, for the restore step to find
    target    what they need of a stack; each component's method, found through the registry
    schedule  a thread taking a backup every `interval` while the workload runs

Each component's take, restore and verify are its adapter's, in drills.components
(`registry.LEGACY_BACKUPS` until the adapters declare them): pg_dump in an exported snapshot and
pg_basebackup from a paused replica; the definitions through RabbitMQ's management API; mongodump
from a helper container.
"""
