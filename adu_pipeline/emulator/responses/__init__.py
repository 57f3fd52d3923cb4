"""HTTP handlers, one module per AMC API family (moto's `responses.py`): parse and check the
request, call the backend in `models/`, shape Amazon's reply."""
