# Read by the `flask` command (python-dotenv) in this folder and below: plain
# `flask run`, `flask freeze`, `flask check`, `flask publish` ... mean the catalog
# site. Variables already set in the environment win, and `flask --app api ...`
# still picks the availability API.
FLASK_APP=storefront
