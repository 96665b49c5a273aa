"""`python -m fake_scrapecreators --port 8010`: run the fake provider."""

from fake_scrapecreators.server import main

main()
