"""Open311 GeoReport v2 (开放311): the wire format partners speak (`wire.py`: parsing, rendering JSON and
XML, the spec's errors). The use cases behind it live in `chalicelib.services.open311`."""
