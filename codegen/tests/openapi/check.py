"""Checks specs/openapi.json with validators written by others.

1. openapi-spec-validator: the document against the OpenAPI 3.1 schema.
2. jsonschema (Draft 2020-12, which OpenAPI 3.1 uses): every endpoint's
   documented sample request and reply, and every callback's sample payload,
   against their schemas in the document.

Run by codegen/tests/generated_code.rs: python3 check.py specs/openapi.json
"""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

doc = json.load(open(sys.argv[1]))
validate(doc)

registry = Registry().with_resource("urn:tim", Resource.from_contents(doc, default_specification=DRAFT202012))


def check(schema_ref, example, where):
    if example is None:
        return []
    name = schema_ref.rsplit("/", 1)[1]
    v = Draft202012Validator({"$ref": "urn:tim#/components/schemas/" + name}, registry=registry)
    return [f"{where}: at /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in v.iter_errors(example)]


problems = []
checked = 0
for path, item in doc["paths"].items():
    op = item["post"]
    body = op["requestBody"]["content"]["application/json"]
    reply = op["responses"]["200"]["content"]["application/json"]
    problems += check(body["schema"]["$ref"], body.get("example"), path + " sample request")
    problems += check(reply["schema"]["$ref"], reply.get("example"), path + " sample reply")
    checked += 2
for command, item in doc["webhooks"].items():
    body = item["post"]["requestBody"]["content"]["application/json"]
    problems += check(body["schema"]["$ref"], body.get("example"), command + " sample payload")
    checked += 1
print(f"document valid; {checked} samples checked, {len(problems)} not matching their schema")
for p in problems[:50]:
    print(p)
sys.exit(1 if problems else 0)
