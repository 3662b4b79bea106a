"""Business categories: schema.org ``LocalBusiness`` subtypes, each with a label for people.

Only real schema.org type names (https://schema.org/LocalBusiness, "More specific Types"),
so the JSON-LD ``@type`` is the category itself. ``parent`` is the type above it in
schema.org (for grouping on the front page and for consumers that only know the parent).
schema.org has no butcher, farm shop or market stall type: such a business picks the
closest (``GroceryStore``, ``Store``) or ``LocalBusiness``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    #: the schema.org type name, also the stored value: "CafeOrCoffeeShop"
    name: str
    #: for people: "Café"
    label: str
    #: the schema.org type above it: "FoodEstablishment"; None for LocalBusiness itself
    parent: str | None


_TABLE = (
    ("LocalBusiness", "Local business", None),
    # food and drink
    ("Bakery", "Bakery", "FoodEstablishment"),
    ("CafeOrCoffeeShop", "Café", "FoodEstablishment"),
    ("Restaurant", "Restaurant", "FoodEstablishment"),
    ("FastFoodRestaurant", "Takeaway", "FoodEstablishment"),
    ("IceCreamShop", "Ice cream shop", "FoodEstablishment"),
    ("BarOrPub", "Bar or pub", "FoodEstablishment"),
    ("Brewery", "Brewery", "FoodEstablishment"),
    ("Winery", "Winery", "FoodEstablishment"),
    ("Distillery", "Distillery", "FoodEstablishment"),
    # shops
    ("Store", "Shop", "LocalBusiness"),
    ("GroceryStore", "Grocery", "Store"),
    ("ConvenienceStore", "Convenience store", "Store"),
    ("LiquorStore", "Wine and spirits shop", "Store"),
    ("Florist", "Florist", "Store"),
    ("GardenStore", "Garden centre", "Store"),
    ("HardwareStore", "Hardware store", "Store"),
    ("HomeGoodsStore", "Home goods", "Store"),
    ("FurnitureStore", "Furniture shop", "Store"),
    ("BookStore", "Bookshop", "Store"),
    ("ClothingStore", "Clothes shop", "Store"),
    ("ShoeStore", "Shoe shop", "Store"),
    ("JewelryStore", "Jeweller", "Store"),
    ("BikeStore", "Bike shop", "Store"),
    ("SportingGoodsStore", "Sports shop", "Store"),
    ("ToyStore", "Toy shop", "Store"),
    ("HobbyShop", "Hobby shop", "Store"),
    ("MusicStore", "Music shop", "Store"),
    ("ElectronicsStore", "Electronics shop", "Store"),
    ("ComputerStore", "Computer shop", "Store"),
    ("MobilePhoneStore", "Phone shop", "Store"),
    ("PetStore", "Pet shop", "Store"),
    ("OfficeEquipmentStore", "Stationery and office supplies", "Store"),
    ("DepartmentStore", "Department store", "Store"),
    ("PawnShop", "Pawnbroker", "Store"),
    ("TireShop", "Tyre shop", "Store"),
    # trades
    ("Plumber", "Plumber", "HomeAndConstructionBusiness"),
    ("Electrician", "Electrician", "HomeAndConstructionBusiness"),
    ("GeneralContractor", "Builder", "HomeAndConstructionBusiness"),
    ("HousePainter", "Painter and decorator", "HomeAndConstructionBusiness"),
    ("Locksmith", "Locksmith", "HomeAndConstructionBusiness"),
    ("RoofingContractor", "Roofer", "HomeAndConstructionBusiness"),
    ("HVACBusiness", "Heating and air conditioning", "HomeAndConstructionBusiness"),
    ("MovingCompany", "Removals", "HomeAndConstructionBusiness"),
    # health and beauty
    ("HairSalon", "Hairdresser", "HealthAndBeautyBusiness"),
    ("BeautySalon", "Beauty salon", "HealthAndBeautyBusiness"),
    ("NailSalon", "Nail salon", "HealthAndBeautyBusiness"),
    ("DaySpa", "Spa", "HealthAndBeautyBusiness"),
    ("TattooParlor", "Tattoo studio", "HealthAndBeautyBusiness"),
    ("HealthClub", "Gym", "HealthAndBeautyBusiness"),
    ("Dentist", "Dentist", "MedicalBusiness"),
    ("Pharmacy", "Pharmacy", "MedicalBusiness"),
    ("Optician", "Optician", "MedicalBusiness"),
    ("Physician", "Doctor", "MedicalBusiness"),
    # cars and bikes
    ("AutoRepair", "Car repair", "AutomotiveBusiness"),
    ("AutoBodyShop", "Body shop", "AutomotiveBusiness"),
    ("AutoWash", "Car wash", "AutomotiveBusiness"),
    ("AutoPartsStore", "Car parts", "AutomotiveBusiness"),
    ("GasStation", "Petrol station", "AutomotiveBusiness"),
    ("MotorcycleRepair", "Motorcycle repair", "AutomotiveBusiness"),
    # services
    ("DryCleaningOrLaundry", "Dry cleaner and laundry", "LocalBusiness"),
    ("ChildCare", "Childcare", "LocalBusiness"),
    ("TravelAgency", "Travel agent", "LocalBusiness"),
    ("RealEstateAgent", "Estate agent", "LocalBusiness"),
    ("AccountingService", "Accountant", "FinancialService"),
    ("InsuranceAgency", "Insurance agent", "FinancialService"),
    ("Attorney", "Lawyer", "LegalService"),
    ("Notary", "Notary", "LegalService"),
    ("InternetCafe", "Internet café", "LocalBusiness"),
    ("SelfStorage", "Self storage", "LocalBusiness"),
    ("RecyclingCenter", "Recycling centre", "LocalBusiness"),
    # stay and play
    ("BedAndBreakfast", "Bed and breakfast", "LodgingBusiness"),
    ("Hotel", "Hotel", "LodgingBusiness"),
    ("Hostel", "Hostel", "LodgingBusiness"),
    ("Campground", "Campsite", "LodgingBusiness"),
    ("ArtGallery", "Art gallery", "EntertainmentBusiness"),
    ("MovieTheater", "Cinema", "EntertainmentBusiness"),
    ("NightClub", "Night club", "EntertainmentBusiness"),
    ("BowlingAlley", "Bowling alley", "SportsActivityLocation"),
    ("ExerciseGym", "Fitness studio", "SportsActivityLocation"),
    ("SportsClub", "Sports club", "SportsActivityLocation"),
    ("TouristInformationCenter", "Tourist information", "LocalBusiness"),
    ("Library", "Library", "LocalBusiness"),
)

#: Every allowed category by its schema.org name, in the order above (grouped by kind).
CATEGORIES: dict[str, Category] = {
    name: Category(name, label, parent) for name, label, parent in _TABLE
}


def category(name: str | None) -> Category | None:
    """The category of a stored name, or None (unset or no longer known)."""
    return CATEGORIES.get(name) if name else None


def label(name: str | None) -> str | None:
    """ "Café" for "CafeOrCoffeeShop"; None when unset or unknown."""
    found = category(name)
    return found.label if found else None


def is_category(name: object) -> bool:
    return isinstance(name, str) and name in CATEGORIES
