from banditmap.cli.app import main

main()
