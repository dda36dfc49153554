"""``python -m supplytwin.cli``: the same as the ``supplytwin`` script."""

from supplytwin.cli import main

if __name__ == "__main__":
    main()
