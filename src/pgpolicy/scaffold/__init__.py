"""`pgpolicy init`: what a project needs to write and prove its policies."""

from pgpolicy.scaffold.init import InitResult, init_project

__all__ = ["InitResult", "init_project"]
