#!/bin/bash

# Check relay is responding
STATUS=$(curl -s http://127.0.0.1:4003/status || echo "DOWN")

if [[ "$STATUS" == "DOWN" ]]; then
  echo "CRITICAL: Relay not responding"
  exit 2
fi

# Parse metrics
RESERVATIONS=$(echo "$STATUS" | jq -r '.reservations')
CONNECTIONS=$(echo "$STATUS" | jq -r '.connections')

if [[ "$CONNECTIONS" -lt 1 ]]; then
  echo "WARNING: No connections"
  exit 1
fi

echo "OK: $CONNECTIONS connections, $RESERVATIONS reservations"
exit 0
