"""The investor portal: home, directory of activity sites, site and plot sheets (HTML, PDF, share
cards), built from what the caller's gate returns and rendered at the edge (``atlas.api``)."""
