#!/bin/sh
# deploy helper
curl -fsS -H "Authorization: Bearer {{DEPLOY_TOKEN}}" https://deploy.internal/api/release
