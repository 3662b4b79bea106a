"""business.categories: schema.org LocalBusiness subtypes with labels and parents."""

from __future__ import annotations

from fedi_town.business.categories import CATEGORIES, category, is_category, label


def test_the_usual_high_street_is_there_with_labels() -> None:
    assert label("CafeOrCoffeeShop") == "Café"
    assert label("HardwareStore") == "Hardware store"
    assert category("Bakery").parent == "FoodEstablishment"  # type: ignore[union-attr]
    assert category("LocalBusiness").parent is None  # type: ignore[union-attr]


def test_only_schema_org_names() -> None:
    """schema.org has no ButcherShop; nothing invented."""
    assert not is_category("ButcherShop")
    assert not is_category("bakery")
    assert not is_category(None)
    assert 40 <= len(CATEGORIES) <= 100


def test_every_parent_is_a_schema_org_business_type() -> None:
    parents = {c.parent for c in CATEGORIES.values()} - {None}
    assert parents <= {
        "LocalBusiness",
        "FoodEstablishment",
        "Store",
        "HomeAndConstructionBusiness",
        "HealthAndBeautyBusiness",
        "MedicalBusiness",
        "AutomotiveBusiness",
        "FinancialService",
        "LegalService",
        "LodgingBusiness",
        "EntertainmentBusiness",
        "SportsActivityLocation",
    }
