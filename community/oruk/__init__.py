"""Open Referral UK 3.0 (the UK profile of HSDS 3): the public read API over the community directory, and an
importer for other publishers' feeds. Only public, active services are ever published; nothing here reads client
data."""
