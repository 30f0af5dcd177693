"""A deterministic demo dataset: Shanghai districts, carriers, couriers, SKUs, buyers, orders."""

from doorstep.adapters.demo.data import DemoDataset, DemoUser, demo_dataset

__all__ = ["DemoDataset", "DemoUser", "demo_dataset"]
