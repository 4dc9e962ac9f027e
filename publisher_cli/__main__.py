from publisher_cli.main import main

main()
