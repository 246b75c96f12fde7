from textsel.cli.app import main

main()
