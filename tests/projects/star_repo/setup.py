from setuptools import setup

setup(name="star-repo")
