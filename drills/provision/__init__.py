"""Make a machine able to run drills: Docker engine, Compose v2, base image, stack images."""
