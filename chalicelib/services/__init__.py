"""Use cases (服务层): one function per thing a resident, a staff member or a job does.

A service reads through `bootstrap.ports()`, writes through `bootstrap.unit_of_work()` (which publishes the
outbox after the commit), asks the domain for decisions and checks, and never imports chalice: the
routes and jobs above it parse and render, the adapters below it talk to AWS and WeChat.
"""
