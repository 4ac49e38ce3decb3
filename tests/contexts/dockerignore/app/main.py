import os

AWS_KEY_ID = "{{AWS_APP}}"
REGION = os.environ.get("REGION", "eu-west-1")
