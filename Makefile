# authbox: `make run` starts the appliance on a demo data folder; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build

DATA ?= demo-data
HTTP ?= 0.0.0.0:8080
PUBLIC_URL ?= http://127.0.0.1:8080
# Debian packages the tests drive as real peers.
TEST_PACKAGES := openssl ca-certificates freeradius-utils eapoltest slapd ldap-utils radsecproxy systemd chromium fonts-ipafont-gothic nginx-light
APT := DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 -qq

.PHONY: build run test test-deps node-deps bench clean

# Node.js 20 or later and a compiler for better-sqlite3's native addon.
node-deps:
	@if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)'; then \
	  echo "installing Node.js from Debian packages"; \
	  $(APT) update && $(APT) install -y nodejs npm python3 make g++; \
	fi
	@node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("authbox needs Node.js 20 or later; this is " + process.version); process.exit(1) }'

node_modules/.package-lock.json: package.json package-lock.json | node-deps
	@# npm ci refuses this lock file when the registry mirror leaves out other platforms'
	@# optional packages (rollup's); npm install then resolves the same versions.
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	@touch $@

build: node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@chmod +x bin/authbox

$(DATA)/authbox.json: | build
	./bin/authbox init --data $(DATA) --org "authbox demo" --public-url $(PUBLIC_URL)
	@# The console's first administrator; its generated password is printed once, here.
	./bin/authbox admin add --data $(DATA) --username admin --role admin

run: build $(DATA)/authbox.json
	./bin/authbox serve --data $(DATA) --http $(HTTP)

# Installs the real peers the tests talk to (skipped when already present).
test-deps:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing test peers: $$missing"; \
	  created=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi; \
	  $(APT) update && $(APT) install -y $$missing; status=$$?; \
	  [ -n "$$created" ] && rm -f /usr/sbin/policy-rc.d; exit $$status; \
	fi

test: build test-deps
	@mkdir -p test-results
	@set +e; npx tsc -p tsconfig.test.json; typed=$$?; \
	npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json; status=$$?; \
	[ $$typed -eq 0 ] || { echo "the tests do not type-check (above)"; status=1; }; \
	node scripts/test-summary.mjs test-results/vitest.json || status=1; exit $$status

bench: build
	bash bench/setup.sh
	bash bench/run-all.sh

clean:
	rm -rf dist test-results
