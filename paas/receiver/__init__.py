"""git push deploys: a smart-HTTP git server in front of `git http-backend`, and its hook.

The pure parts (`protocol`, `auth`, `refs`) parse what a client sends and decide
what to do with it; `store`, `repository`, `server`, `hook` and `pipeline` do
the I/O. See docs/receiver.md.
"""
