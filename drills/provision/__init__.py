"""Make a machine able to run drills: Docker engine, Compose v2, base image, stack images.

The lowest layer that talks to Docker: it knows nothing of stacks or scenarios. `drill setup`,
`drill doctor` and `drill smoke` are in `drills.cli.setup`, above it; `drill doctor` hands
the scenarios' `requires:` and the components' pulled images (MongoDB's) to `checks.run_checks`.
"""
