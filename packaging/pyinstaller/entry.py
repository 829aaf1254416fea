"""The frozen app's entry point: the same as the ``hpo-desktop`` console script."""

import multiprocessing
import sys

from hpo_desktop.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # child processes of a frozen app re-enter here
    sys.exit(main())
