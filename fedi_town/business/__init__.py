"""What a local business is: hours, places, categories. Pure: standard library and data only.

The store keeps a business's structured profile as plain values (``store.businesses``);
this package validates them, evaluates them at an instant (open now? until when?) and says
them in words, for the actor's fields, the pages and the directory alike.
"""
