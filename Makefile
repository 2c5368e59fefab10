# cloudpulse — see README.md. Two commands do everything on a fresh machine:
#   make check   check a cloud (OS_CLOUD), or bring the lab cloud up and check it
#   make test    build the pinned tools, run unit and static checks, then the cloud tests on the lab
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
export PATH := /usr/local/go/bin:$(ROOT)/.tools/bin:$(PATH)
export GOFLAGS := -mod=readonly
TOOLS := $(ROOT)/.tools
export CLOUDPULSE_ROOT := $(ROOT)
# OpenTofu, or Terraform in its place: your own with CLOUDPULSE_TOFU=/path (checked by `make tools`), else
# .tools/bin/tofu — a link to a tofu/terraform on PATH that fits, or OpenTofu built from source.
export CLOUDPULSE_TOFU ?= $(TOOLS)/bin/tofu
export CLOUDPULSE_TOFURC := $(TOOLS)/tofurc
export TF_CLI_CONFIG_FILE := $(TOOLS)/tofurc
export CHECKPOINT_DISABLE := 1
GOTESTSUM := $(TOOLS)/bin/gotestsum
REPORTS := $(ROOT)/reports
# The lab's clouds (scripts/lab writes them).
LAB_CLOUDS := $(ROOT)/.lab/clouds.yaml
# Cloud tests are long: generous go test timeout; each test keeps its own cleanup margin.
CLOUD_TEST_TIMEOUT ?= 80m
# how many parallel cloud tests run at once (the lab's room: two scenario applies side by side)
CLOUD_TEST_PARALLEL ?= 2

.PHONY: test-upgrade
.PHONY: obs-deps pg-deps
.PHONY: all tools test unit vet shellcheck lab-unit tf-check image-test build lab-up lab-down lab-status lab-logs lab-smoke \
        lab-upgrade lab-downgrade \
        cloud-test bench bench-scale check clean clean-cloud browser-deps

all: build

## tools: the pinned OpenTofu (an installed one that fits, else built), OpenStack provider (filesystem mirror) and gotestsum into .tools/
tools:
	@scripts/tools.sh

## build: the cpulse binary into bin/
build:
	@mkdir -p bin
	go build -trimpath -o bin/cpulse ./cmd/cpulse

## vet: go vet, and gofmt must have nothing to change
vet:
	go vet ./...
	@bad=$$(gofmt -l cmd helpers tests); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad" >&2; exit 1; fi

## shellcheck: every shell script in scripts/ and fixtures/image/ (installs Debian's shellcheck when missing)
shellcheck:
	@scripts/shellcheck.sh

## lab-unit: the lab's host-ownership logic (marker, records, teardown, policy-rc.d, backups) on temporary dirs
lab-unit:
	@scripts/lab/test/run.sh

## obs-deps: Debian's prometheus and prometheus-pushgateway for the observability tests (their services left stopped)
obs-deps:
	@scripts/obs-deps.sh

## pg-deps: Debian's postgresql for the history store's PostgreSQL tests (its own cluster left stopped)
pg-deps:
	@scripts/pg-deps.sh

## unit: fast tests that need no cloud (JUnit in reports/unit.junit.xml)
unit: tools obs-deps pg-deps
	@mkdir -p $(REPORTS)
	$(GOTESTSUM) --junitfile $(REPORTS)/unit.junit.xml --format testname -- -count=1 ./helpers/... $$(go list ./cmd/... 2>/dev/null)

## tf-check: tofu fmt -check and validate of every module and fixture
tf-check: tools
	@scripts/tf-check.sh

## lab-up: bring the lab cloud up (installs Debian packages on a fresh machine; idempotent)
lab-up:
	@scripts/lab/up.sh

lab-down:
	@scripts/lab/down.sh

## lab-status: exit 0 only when every lab service answers and every agent is up
lab-status:
	@scripts/lab/status.sh

lab-logs:
	@scripts/lab/logs.sh

## lab-downgrade: the lab's control plane back on Debian's point-release versions, their .debs and the newer ones cached (~1 s when already so; exit 3: no longer to be had)
lab-downgrade:
	@scripts/lab/upgrade.sh prepare

## lab-upgrade: the lab's minor upgrade to the security updates, as an operator does it (exit 3: nothing to upgrade, run lab-downgrade first)
lab-upgrade:
	@mkdir -p $(REPORTS)
	@scripts/lab/upgrade.sh run --report $(REPORTS)/lab-upgrade.json

# The cloud tests run as the lab's member; admin-only tests use the admin cloud. The
# lab's monitoring passwords (RabbitMQ, MariaDB) come from .lab/secrets.env, never the command line.
LAB_SECRETS := set -a; . $(ROOT)/.lab/secrets.env; set +a;
LAB_ENV := $(LAB_SECRETS) OS_CLIENT_CONFIG_FILE=$(LAB_CLOUDS) OS_CLOUD=lab-member CLOUDPULSE_ADMIN_CLOUD=lab-admin \
	CLOUDPULSE_SERVICE_MAP=$(ROOT)/fixtures/service-map/lab.yaml CLOUDPULSE_HORIZON_URL=http://127.0.0.1:8080/ \
	CLOUDPULSE_LAB=1

## lab-smoke: one VM on each compute host: ping, ssh, http, volume; prints step timings
lab-smoke: tools lab-up
	@mkdir -p $(REPORTS)
	$(LAB_ENV) $(GOTESTSUM) --junitfile $(REPORTS)/lab-smoke.junit.xml --format standard-verbose -- \
		-count=1 -timeout $(CLOUD_TEST_TIMEOUT) -run 'TestLabSmoke' ./tests/

## browser-deps: Debian's Chromium for the status page's browser tests (TestStatusPageBrowser, TestStatusPage)
browser-deps:
	@scripts/browser-deps.sh

## cloud-test: every cloud test (endpoint, operator with faults, operator mode, lab smoke, the upgrade gate with a real package upgrade of the lab and the functional scenario after it, comprehensive) against the lab
cloud-test: tools obs-deps pg-deps browser-deps lab-up
	@mkdir -p $(REPORTS)
	$(LAB_ENV) CLOUDPULSE_REPORT=$(REPORTS)/functional.json CLOUDPULSE_SERVER_GROUP_POLICY=anti-affinity \
		CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE=1 \
		$(GOTESTSUM) --junitfile $(REPORTS)/cloud.junit.xml --format standard-verbose -- \
		-count=1 -p 1 -parallel $(CLOUD_TEST_PARALLEL) -timeout $(CLOUD_TEST_TIMEOUT) ./tests/...

## test-upgrade: TestUpgrade alone (make test runs it too), with the real package upgrade of the lab between pre and post (watcher on every path; reports/upgrade-downtime.{json,svg}, reports/lab-upgrade.json); leaves the lab on the new packages (make lab-downgrade, or the next lab-up, goes back)
test-upgrade: tools lab-up
	@mkdir -p $(REPORTS)
	$(LAB_ENV) CLOUDPULSE_REPORT=$(REPORTS)/functional.json CLOUDPULSE_LAB_UPGRADE=1 \
		$(GOTESTSUM) --junitfile $(REPORTS)/upgrade.junit.xml --format standard-verbose -- \
		-count=1 -timeout 60m -run 'TestUpgrade$$' ./tests/

## bench: the endpoint check set against the lab, 30 times as lab-member and as lab-admin (wall per set, p50/p95 per service)
bench: tools lab-up
	$(LAB_ENV) go test -count=1 -run '^$$' -bench EndpointSet -benchtime 30x ./tests/
	$(LAB_ENV) OS_CLOUD=lab-admin go test -count=1 -run '^$$' -bench EndpointSet -benchtime 30x ./tests/

## bench-scale: the comprehensive scenario as lab-admin on 1, 2, … compute hosts: wall, apply, validations, destroy, the slowest VM's critical path and the harness's serial time per N (a third host: LAB_COMPUTES=3 make lab-up)
bench-scale: tools lab-up
	$(LAB_ENV) OS_CLOUD=lab-admin go test -count=1 -v -run '^$$' -bench ComprehensiveScale -benchtime 1x -timeout 60m ./tests/

## image-test: boot the test guest under qemu in a private network namespace: ping, ssh, http, hot-plug, ACPI
image-test:
	@fixtures/image/build.sh
	@fixtures/image/test-boot.sh

## test: everything a new user and CI run
# The project's own tests prove the toolchain it pins: only OpenTofu of the pinned version is used (an
# installed Terraform, fine for `make check`, would leave state encryption untested).
test: export CLOUDPULSE_TOOLS_PINNED := 1
test: shellcheck lab-unit tools browser-deps vet unit tf-check image-test cloud-test

## check: check OS_CLOUD's cloud; with no OS_CLOUD, bring the lab up and check it
check: tools build
ifeq ($(strip $(OS_CLOUD)),)
	@$(MAKE) --no-print-directory lab-up
	$(LAB_SECRETS) OS_CLIENT_CONFIG_FILE=$(LAB_CLOUDS) CLOUDPULSE_SERVICE_MAP=$(ROOT)/fixtures/service-map/lab.yaml \
		CLOUDPULSE_HORIZON_URL=$${CLOUDPULSE_HORIZON_URL:-http://127.0.0.1:8080/} bin/cpulse check all --cloud lab-admin
else
	bin/cpulse check all
endif

## clean-cloud: destroy what interrupted runs left (state/runs), and verify nothing tagged remains
clean-cloud: tools build
	@if [ -z "$${OS_CLOUD:-}" ]; then OS_CLIENT_CONFIG_FILE=$(LAB_CLOUDS) bin/cpulse cleanup --cloud lab-member; \
	else bin/cpulse cleanup; fi

clean:
	rm -rf bin reports
