"""Views, one module per area: core (home, account, health), classes (rosters and join
codes), assignments (setting and writing essays), marking, progress."""
