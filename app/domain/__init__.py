"""Pure domain: entities, value objects, rules and errors. Imports nothing from the web or the database."""
