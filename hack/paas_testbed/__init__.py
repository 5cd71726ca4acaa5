"""The paas testbed: a real single-node Kubernetes cluster built on this machine.

Everything is built from package registries (Debian packages and the Go module
proxy); no container image is pulled. Pins live in hack/pins.env. See
docs/testbed.md for what runs, where, and how long it takes.

Usage: hack/testbed {up|down|status|env|logs COMPONENT}

Stdlib only, run with the system python3, as root. hack/testbed runs
`python3 -P -m paas_testbed` with hack/ on PYTHONPATH. The modules, in import
order: config (paths, addresses, pins, helpers), build (from source, cached),
host (packages, host setup, config files, teardown), pki (certificates,
tokens, kubeconfigs), kube (API server client, kubectl), components (the
processes and their health checks), images (pause and the Debian base),
volumes (the volume provisioner), cli (the commands).
"""
