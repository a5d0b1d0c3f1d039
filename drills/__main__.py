from drills.cli.main import main

main()
