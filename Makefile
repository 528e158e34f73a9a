# tsunagu: see README.md. `make run` starts the local stack, `make test` runs every test.

GO            ?= go
PORT          ?= 3000
# SAM builds for Lambda's arm64; the local stack builds for this machine.
LAMBDA_GOARCH ?= arm64
LOCAL_DIR     := infra/local

.PHONY: run test fuzz logcheck bench lint build emulators clean browser

## run: the whole local stack in the foreground (Ctrl-C stops it all)
# Built, then run, rather than `go run`: go run exits 1 on Ctrl-C itself.
run:
	$(GO) build -o .local/bin/tsunagu ./cmd/tsunagu
	PORT=$(PORT) .local/bin/tsunagu run

# gotestsum runs go test -json: it prints what go test prints and keeps every
# event, passing tests' output included, in one file that make logcheck reads.
GOTESTSUM   ?= $(GO) run gotest.tools/gotestsum@v1.13.0
TEST_OUTPUT := .local/test-output.json

## test: every test, including those against the emulators the tests start;
## all they print is kept in .local/test-output.json (go test -json)
test: lint browser
	$(GO) vet ./...
	@mkdir -p .local
	$(GOTESTSUM) --format standard-quiet --jsonfile $(TEST_OUTPUT) -- -count=1 ./...

## fuzz: every fuzz target for FUZZTIME each (go test -fuzz takes one target
## per run); a finding is written to the package's testdata/fuzz and printed
FUZZTIME     ?= 10s
FUZZ_TARGETS := shared/order:FuzzDecodeGeneric shared/order:FuzzDecodeErasure shared/shopify:FuzzDecode \
	shared/shopify:FuzzDecodeRedact shared/shopify:FuzzMinorUnits \
	shared/signature:FuzzVerifyTsunagu shared/signature:FuzzVerifyShopify shared/signature:FuzzVerifyOrder \
	shared/unsubscribe:FuzzOpen shared/rules:FuzzLoadCampaign shared/rules:FuzzLoadLoyalty functions/line:FuzzWebhookParse \
	functions/sesfeedback:FuzzDecodeSESEvent functions/line:FuzzVerifyCustomerSignature shared/logging:FuzzMask \
	shared/review:FuzzDecode
## Go 1.26's coordinator can end a clean run with a bare "context deadline
## exceeded" when -fuzztime runs out mid-call (golang/go#75804, fixed in 1.27):
## such a run wrote no reproducer and failed nothing else, so it is reported
## as that race and not as a finding; any other failure fails the target
fuzz:
	@mkdir -p .local; failed=; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; dir=$$pkg/testdata/fuzz/$$name; \
		before=$$(ls $$dir 2>/dev/null | wc -l); \
		echo "fuzz $$name (./$$pkg) for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x -parallel=4 ./$$pkg >.local/fuzz.out 2>&1; \
		status=$$?; cat .local/fuzz.out; \
		if [ $$status != 0 ]; then \
			after=$$(ls $$dir 2>/dev/null | wc -l); \
			if [ "$$after" = "$$before" ] && grep -q '^    context deadline exceeded$$' .local/fuzz.out \
				&& [ "$$(grep -c '^--- FAIL' .local/fuzz.out)" = 1 ]; then \
				echo "fuzz $$name: no finding; the run ended on golang/go#75804's deadline race"; \
			else \
				failed="$$failed $$name"; cat $$dir/* 2>/dev/null; \
			fi; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz findings in:$$failed"; exit 1; fi

## logcheck: every test again, keeping all it prints (go test -json), then
## fail if any line carries an email address, a LINE user id or a secret;
## `make logcheck REUSE=1` checks what the last make test printed instead
## of running every test again (.ci/run, right after make test)
logcheck:
	@mkdir -p .local
	@if [ -n "$(REUSE)" ]; then \
		test -s $(TEST_OUTPUT) || { echo "logcheck: no $(TEST_OUTPUT); run make test first"; exit 1; }; \
		echo "$(GO) run ./cmd/tsunagu logcheck $(TEST_OUTPUT)"; \
		$(GO) run ./cmd/tsunagu logcheck $(TEST_OUTPUT); \
	else \
		echo "$(GO) test -count=1 -json ./... > $(TEST_OUTPUT)"; \
		$(GO) test -count=1 -json ./... > $(TEST_OUTPUT); status=$$?; \
		$(GO) run ./cmd/tsunagu logcheck $(TEST_OUTPUT) && exit $$status; \
	fi

## browser: Debian's chromium (and a Japanese font, so screenshots read) for the
## thank-you widget's browser tests; installed only when missing
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=ja 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-ipafont-gothic; \
	fi

## bench: benchmarks against the emulators; writes BENCHMARKS.md
bench:
	$(GO) run ./cmd/tsunagu bench --out BENCHMARKS.md

## lint: check the rule files in rules/ (every problem as file:line:col)
lint:
	$(GO) run ./cmd/tsunagu lint rules

## build: what `sam build` runs, for every function
build:
	sam build

# --- SAM build targets (BuildMethod: makefile). SAM sets ARTIFACTS_DIR. ---
# Each function is a static linux binary named bootstrap, with the rules it
# was built with beside it (TSUNAGU_RULES_DIR=/var/task/rules).
define lambda_build
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -trimpath -tags lambda.norpc -ldflags="-s -w" -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
	rm -rf $(ARTIFACTS_DIR)/rules && cp -R rules $(ARTIFACTS_DIR)/rules
endef

build-PurchaseFunction:
	$(call lambda_build,purchase)

build-ErasureFunction:
	$(call lambda_build,erasure)

build-ShopRedactFunction:
	$(call lambda_build,shopredact)

build-ReviewsFunction:
	$(call lambda_build,reviews)

build-ThankyouFunction:
	$(call lambda_build,thankyou)

build-LineFunction:
	$(call lambda_build,line)

build-SesFeedbackFunction:
	$(call lambda_build,sesfeedback)

build-UnsubscribeFunction:
	$(call lambda_build,unsubscribe)

build-RedirectFunction:
	$(call lambda_build,redirect)

build-SchedulerFunction:
	$(call lambda_build,scheduler)

build-SenderFunction:
	$(call lambda_build,sender)

build-SegmentsFunction:
	$(call lambda_build,segments)

build-DigestFunction:
	$(call lambda_build,digest)

build-SurveyFunction:
	$(call lambda_build,survey)

build-PointsFunction:
	$(call lambda_build,points)

clean:
	rm -rf .aws-sam .local
