"""Bus names. Each bus has one balance per step, assembled from registered flows."""

ELECTRICITY = "electricity"  # kW
HEAT = "heat"  # kW_th
COOLING = "cooling"  # kW_th
COMPRESSED_AIR = "compressed_air"  # m3/min of free air
ICE = "ice"  # kW_th of ice made or melted (only chillers in ice mode supply it, only ice tanks absorb it)
