"""What a team runs against any database: the probed access matrix, the policy linter, coverage.

``pgpolicy.analysis.matrix`` probes every actor and exposed object for real (rolled back);
``pgpolicy.analysis.lint`` reads the catalog and the parsed policy expressions;
``pgpolicy.analysis.coverage`` tells which matrix cells a proof suite exercised.
"""
