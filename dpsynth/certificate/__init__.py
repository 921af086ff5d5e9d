"""The certificate of an audited release: its document, its page and the policy that judges it.

Nouns only: the workflows (:mod:`dpsynth.workflows`) build and write them.
"""
