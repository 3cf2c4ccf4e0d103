"""The AWS CLI's way to the code: import boto3, an unsigned sso-oidc client, the
registration from its cache file, StartDeviceAuthorization; "t" is the moment the code is
known.

Arguments: start URL, region, endpoint, the registration's cache file."""

import json
import sys
import time

import boto3
from botocore import UNSIGNED
from botocore.config import Config

with open(sys.argv[4]) as f:
    registration = json.load(f)
client = boto3.session.Session().client(
    "sso-oidc",
    region_name=sys.argv[2],
    endpoint_url=sys.argv[3],
    config=Config(signature_version=UNSIGNED),
)
answer = client.start_device_authorization(
    clientId=registration["clientId"],
    clientSecret=registration["clientSecret"],
    startUrl=sys.argv[1],
)
sys.stdout.write("BENCH " + json.dumps({"t": time.time(), "code": answer["userCode"]}) + "\n")
