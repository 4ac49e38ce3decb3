#!/bin/sh
echo "hello from main"
