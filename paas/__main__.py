from __future__ import annotations

from paas.cli import run

if __name__ == "__main__":
    run()
