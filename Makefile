SHELL := /bin/bash
# PayBridge — one command each: `make demo`, `make test`, `make bench`.
# Everything installs what it needs (Debian, root) and starts a loopback broker when none is listening.
SWIFT       ?= swift
SWIFT_FLAGS ?=
AMQP_URL    ?= amqp://guest:guest@127.0.0.1:5672/%2F
PYTHON      ?= /usr/bin/python3
# The paybridge that deploy-check and deploy-definitions read the topology from; built unless set to another one.
PAYBRIDGE_BIN ?= .build/debug/paybridge
export RABBITMQ_URL ?= $(AMQP_URL)

.PHONY: all deps broker broker-stop build test test-unit test-cluster cluster cluster-stop bench bench-c bench-amqp bench-worker bench-scale bench-profile demo clean fuzz fuzz-ci \
        deploy-check deploy-definitions examples examples-test format format-check types-check images image-check

all: build

deps:
	@bash scripts/install-deps.sh

broker: deps
	@bash scripts/broker.sh start

broker-stop:
	@bash scripts/broker.sh stop

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

# Every test, unit and integration. Integration tests use the broker started here; they never skip.
# Serial (--no-parallel): the end-to-end tests each run a broker vhost, a sandbox and workers; run all at once on
# 2 cores they starve the broker (logins time out) and concurrent rabbitmqctl calls collide.
test: broker
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) 2>&1 | tee .build/test-output.txt; exit $${PIPESTATUS[0]}

# A 3-node RabbitMQ cluster on loopback beside the default broker (scripts/cluster.sh: nodes
# paybridge-c1..c3@localhost, AMQP 5681-5683), two `paybridge worker` processes on it, the leader of the command
# queue SIGKILLed mid-load and revived (ClusterFailoverEndToEndTests). The test only runs with
# PAYBRIDGE_CLUSTER_TEST=1, which this target sets; the cluster is stopped (and its data removed) even on failure.
# .ci/run runs it after `make test`; see docs/testing.md "Cluster failover test".
test-cluster: broker
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	set -o pipefail; status=0; \
	{ bash scripts/cluster.sh start && PAYBRIDGE_CLUSTER_TEST=1 $(SWIFT) test --skip-build --no-parallel \
	    --filter ClusterFailoverEndToEndTests $(SWIFT_FLAGS) 2>&1 | tee .build/test-cluster-output.txt; } || status=$$?; \
	bash scripts/cluster.sh stop; exit $$status

cluster: broker
	bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

# The broker-free part of the suite on its own (no broker started, none needed): the AMQP state machines, the
# contract, the provider clients against in-process HTTP servers, the worker's rules and state values, and the
# service around them with test doubles. Selected by test target only. ~30 s after the build.
UNIT_TARGETS := AMQPUnitTests|ContractTests|ProviderTests|PayBridgeRulesTests|PayBridgeUnitTests
test-unit: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --filter '^($(UNIT_TARGETS))\.' $(SWIFT_FLAGS)

# swift-format's rule checks with .swift-format (docs/formatting.md); a few seconds, no build. Its layout pass
# (--debug-disable-pretty-print) is off: it would re-indent two thirds of the files. Plugins/ etc. only when present.
# `make format` rewrites only the files format-check flags, with the same rules; without the layout pass a rewrite
# leaves a space after an `if`/`guard`/`while` that ends its line, which the sed takes off again.
FORMAT_PATHS := $(wildcard Sources Tests Plugins Fuzz Package.swift)
FORMAT_FLAGS := --configuration .swift-format --debug-disable-pretty-print
format-check:
	$(SWIFT) format lint --strict --recursive $(FORMAT_FLAGS) $(FORMAT_PATHS)

format:
	@files=$$($(SWIFT) format lint --recursive $(FORMAT_FLAGS) $(FORMAT_PATHS) 2>&1 \
	  | sed -n 's/^\([^:]*\.swift\):[0-9]*:[0-9]*: .*/\1/p' | sort -u); \
	if [ -z "$$files" ]; then echo "format: nothing to change"; exit 0; fi; \
	echo "format: $$files"; \
	$(SWIFT) format format --in-place $(FORMAT_FLAGS) $$files && sed -i -E 's/^( *)(if|guard|while) +$$/\1\2/' $$files

bench-c: deps
	$(CC) -O2 -o bench/c-passthrough bench/c-passthrough.c $$(pkg-config --cflags --libs librabbitmq)

# Swift client vs. the same loop in C on librabbitmq, one after the other on the same broker.
bench-amqp: broker bench-c
	$(SWIFT) build -c release --product amqp-bench $(SWIFT_FLAGS)
	bash bench/run-amqp-bench.sh

# One worker against the sandbox: commands/s, p50/p99 command -> event latency, peak RSS, at 0 ms and 100 ms.
bench-worker: broker
	for product in paybridge paybridge-sandbox paybridge-bench; do \
	  $(SWIFT) build -c release --product $$product $(SWIFT_FLAGS) || exit 1; done
	bash bench/run-worker-bench.sh

# Horizontal scaling: 1, 2 and 4 worker processes at 100 ms provider latency, against the ideal rate.
bench-scale: broker
	for product in paybridge paybridge-sandbox paybridge-bench; do \
	  $(SWIFT) build -c release --product $$product $(SWIFT_FLAGS) || exit 1; done
	bash bench/run-scale-bench.sh

# The worker's budget per command, stage by stage: heap allocations (exact) and CPU time of each step of the hot path
# (the HTTP and AMQP steps against the sandbox and the broker), beside one drain's CPU and context switches per command
# (bench/run-profile-bench.sh, docs/benchmarks.md "Per-stage budget").
bench-profile: broker
	for product in paybridge paybridge-sandbox paybridge-bench paybridge-profile; do \
	  $(SWIFT) build -c release --product $$product $(SWIFT_FLAGS) || exit 1; done
	bash bench/run-profile-bench.sh

bench: bench-amqp bench-worker

# libFuzzer targets (Fuzz/, docs/testing.md "Fuzzing"): FUZZ_SECONDS per target (default 60), FUZZ_TARGETS to pick.
# Fails on a finding (inputs in .build/fuzz/findings/<target>/). fuzz-ci: the same, 20 s per target, from a fixed
# seed (-seed=1), and ascii-pattern compares only the contract's patterns with ICU (FUZZ_ICU_ORACLE=0: ICU's own
# quirks must not fail CI); `make fuzz` explores with fresh seeds and random patterns against ICU.
fuzz: deps
	bash scripts/fuzz.sh

fuzz-ci: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} FUZZ_EXTRA="$${FUZZ_EXTRA:--seed=1}" FUZZ_ICU_ORACLE=0 bash scripts/fuzz.sh

# deploy/ against the code (scripts/deploy-check.py, see deploy/README.md): every YAML/JSON file there parses,
# rabbitmq-definitions.json equals `paybridge topology --print-definitions`, and the queue, exchange, subcommand and
# environment variable names in the manifests exist in the code; compose.yaml passes `docker-compose config`; the
# Grafana dashboard and Prometheus rules name only metrics the code defines and pass promtool (check, unit tests);
# the Kubernetes and KEDA objects validate strictly against Kubernetes 1.35's schemas (kubernetes-validate, pinned) and
# a hand-written KEDA 2.20 schema, in .build/deploy-check-venv, which the check makes on its first run (~15 s).
deploy-check:
	@bash scripts/install-deps.sh deploy
ifeq ($(PAYBRIDGE_BIN),.build/debug/paybridge)
	$(SWIFT) build --product paybridge $(SWIFT_FLAGS)
endif
	$(PYTHON) scripts/deploy-check.py --paybridge $(PAYBRIDGE_BIN)

# Rewrites deploy/rabbitmq-definitions.json from the code (after a topology change; deploy-check says when).
deploy-definitions: deps
ifeq ($(PAYBRIDGE_BIN),.build/debug/paybridge)
	$(SWIFT) build --product paybridge $(SWIFT_FLAGS)
endif
	env -u PAYBRIDGE_AMQP_URL -u PAYBRIDGE_AMQP_URL_FILE $(PAYBRIDGE_BIN) topology --print-definitions --vhost / \
	  > deploy/rabbitmq-definitions.json.new && mv deploy/rabbitmq-definitions.json.new deploy/rabbitmq-definitions.json

# deploy/README.md's Compose commands, run as written, on podman with podman-compose (scripts/compose-check.py; a
# `docker` shim maps `docker compose` to podman-compose 1.6 in .build/compose-venv, made on the first run). They need
# the local images of scripts/images.sh (localhost/paybridge:dev, localhost/paybridge-rabbitmq:3.10), built first
# (`make images`, cached); root. In CI after image-check. compose-check: the walkthrough ("Compose: the whole stack on one machine"), ~1.5 min. rolling-update-check:
# "Rolling update of the workers" under a load of 1,000 commands, every command exactly one outcome event, ~2 min.
# Both tear down what they started (`docker compose down -v`), also on failure, after printing the containers' logs.
.PHONY: compose-check rolling-update-check
compose-check: images
	$(PYTHON) scripts/compose-check.py walkthrough

rolling-update-check: images
	$(PYTHON) scripts/compose-check.py rolling

# Types generated from the contract (scripts/types-check.sh, docs/integration.md "Types from the contract"): a pinned
# datamodel-code-generator in .build/types-venv (made on the first run, ~12 s) turns every schema under schemas/*/
# into pydantic v2 models and dataclasses; fails when the generator fails or warns, a module does not import, or a
# schema's own examples do not load into its generated model. One line per schema; 1-2 s after the first run.
types-check:
	PYTHON=$(PYTHON) bash scripts/types-check.sh

# Rewrites every event example in schemas/events/ from PayBridge's own code (Tests/PayBridgeTests/EventExamples.swift);
# the next build embeds them (EmbedSchemas plugin). EventExamplesTests fails until this has run after a change to
# what events carry.
examples: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	PAYBRIDGE_WRITE_EXAMPLES=$(CURDIR)/.build/event-examples.json $(SWIFT) test --skip-build $(SWIFT_FLAGS) \
	  --filter 'EventExamplesTests/everyEventSchemasExamplesAreWhatTheCodeEmits' || true
	$(PYTHON) scripts/write-event-examples.py .build/event-examples.json

# The reference clients (examples/python, examples/go, examples/java; examples/README.md) against the broker, a real
# PayBridge (`paybridge run`) and the provider sandbox, with the least-privilege roles of
# deploy/rabbitmq-definitions.json: scripts/examples-test.py (it reads the binaries from PAYBRIDGE_BIN_DIR, default
# .build/debug). EXAMPLES_LANGUAGES picks some (default: all three).
examples-test: broker
	$(SWIFT) build $(SWIFT_FLAGS)
	$(PYTHON) scripts/examples-test.py $(EXAMPLES_LANGUAGES)

# Container images from local bases, with podman, where no registry can be pulled from (scripts/images.sh;
# deploy/images.md): a Debian 12 base by debootstrap (built once, then cached), RabbitMQ from
# Debian's package, PayBridge from one static-stdlib release build on the host. IMAGE_TAG (default dev).
images:
	@bash scripts/install-deps.sh image
	bash scripts/images.sh

# The images run as separate containers on a podman network (scripts/image-check.py): the broker with the
# least-privilege roles, the sandbox, `callbacks` and `worker` with secrets from files; one command of each kind and
# the callbacks, health status, a worker stopped with SIGTERM mid-load that must drain and lose nothing. Removes
# what it started, also on failure. Root.
image-check: images
	$(PYTHON) scripts/image-check.py

demo: broker
	$(SWIFT) build $(SWIFT_FLAGS)
	bash scripts/demo.sh

clean:
	rm -rf .build bench/c-passthrough
