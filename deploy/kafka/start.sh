#!/bin/sh
# Entry point of the kafka container (compose.yaml): a single-node KRaft broker whose only
# listener reachable from other containers is SASL_PLAINTEXT with SCRAM-SHA-256, so a container on
# the compose network cannot publish or read without a password.
#
#   kafka:9092        SASL_PLAINTEXT, SCRAM-SHA-256: clients (GridPulse; the Kafka UI profile)
#   127.0.0.1:9091    PLAINTEXT, loopback inside this container only: inter-broker traffic and
#                     the healthcheck (kafka-broker-api-versions.sh)
#   127.0.0.1:9093    the KRaft controller
#
# The SCRAM users `gridpulse` and `kafka-ui` are created when the data volume is formatted (first
# start): kafka-storage.sh format --add-scram, passwords from deploy/secrets/kafka.env
# (scripts/setup-env.sh). Later starts keep the stored credentials (--ignore-formatted); to change a
# password on a running broker see README "Deployment".
#
# The GRIDPULSE_KAFKA_* variables exist for tests/integration/compose-kafka.test.ts, which runs
# this very script outside a container (other host, ports, Kafka home); compose sets none of them.
set -eu
: "${KAFKA_SCRAM_GRIDPULSE_PASSWORD:?missing: run scripts/setup-env.sh (deploy/secrets/kafka.env)}"
: "${KAFKA_SCRAM_KAFKA_UI_PASSWORD:?missing: run scripts/setup-env.sh (deploy/secrets/kafka.env)}"
: "${CLUSTER_ID:?CLUSTER_ID is not set}"
kafka_home=${KAFKA_HOME:-/opt/kafka}
host=${GRIDPULSE_KAFKA_ADVERTISED_HOST:-kafka}
client_port=${GRIDPULSE_KAFKA_CLIENT_PORT:-9092}
internal_port=${GRIDPULSE_KAFKA_INTERNAL_PORT:-9091}
controller_port=${GRIDPULSE_KAFKA_CONTROLLER_PORT:-9093}
conf=${GRIDPULSE_KAFKA_CONF_DIR:-/tmp/gridpulse-kafka}/server.properties
data=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
mkdir -p "$(dirname "$conf")"
cat > "$conf" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=SASL_PLAINTEXT://:$client_port,INTERNAL://127.0.0.1:$internal_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_PLAINTEXT://$host:$client_port,INTERNAL://127.0.0.1:$internal_port
listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$data
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# 7 days, as DESIGN.md
log.retention.hours=168
EOF
# Base64url passwords from setup-env.sh hold no ',' ']' to break the --add-scram syntax.
"$kafka_home/bin/kafka-storage.sh" format --ignore-formatted --cluster-id "$CLUSTER_ID" -c "$conf" \
  --add-scram "SCRAM-SHA-256=[name=gridpulse,password=$KAFKA_SCRAM_GRIDPULSE_PASSWORD]" \
  --add-scram "SCRAM-SHA-256=[name=kafka-ui,password=$KAFKA_SCRAM_KAFKA_UI_PASSWORD]"
# The passwords are in the cluster metadata now; the broker process does not need them.
unset KAFKA_SCRAM_GRIDPULSE_PASSWORD KAFKA_SCRAM_KAFKA_UI_PASSWORD
exec "$kafka_home/bin/kafka-server-start.sh" "$conf"
