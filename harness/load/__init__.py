"""`b4a load`: delivery checked under load, on Locust (see harness/commands/load.py for the processes).

config.py the run as one value · ledger.py expected copies matched to arrivals, exact counts ·
receivers.py gevent WebSocket readers and the FCM inbox follower · population.py the users and
their friendships · flows.py what a user does · session.py one process's users, judging, drain ·
locust_side.py the Locust user and the local/master/worker processes · report.py / html.py output.
"""
