"""Dagster adapters of the analytics domain: the pseudonymized ``sightings`` of each capture date."""
