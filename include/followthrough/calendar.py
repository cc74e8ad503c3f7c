"""Business-day arithmetic on each team's calendar, vectorised with numpy.

A team calendar is its time zone plus the public holidays of its region (ISO country code,
from the maintained `holidays` library) plus the company's extra holidays from the policy.
Business days are Monday to Friday minus those holidays. Rows are grouped by calendar, so
the cost is one numpy call per distinct (time zone, region), not per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@lru_cache(maxsize=256)
def public_holidays(region: str, first_year: int, last_year: int) -> tuple[date, ...]:
    """The region's public holidays over the years; an unknown region has none."""
    import holidays

    if not region:
        return ()
    try:
        calendar = holidays.country_holidays(region, years=range(first_year, last_year + 1))
    except NotImplementedError:
        return ()
    return tuple(sorted(calendar))


@dataclass(frozen=True)
class Calendars:
    """How business days are counted: public holidays on or off, and extra company holidays."""

    public: bool = True
    extra: tuple[date, ...] = field(default=())

    def holidays(self, region: str, years: Iterable[int]) -> np.ndarray:
        import numpy as np

        span = sorted(set(years))
        days: set[date] = set(self.extra)
        if self.public and span:
            days.update(public_holidays(region, span[0] - 1, span[-1] + 1))
        return np.array(sorted(days), dtype="datetime64[D]")


NO_HOLIDAYS = Calendars(public=False)


def _groups(instants: pd.Series, timezones: pd.Series, regions: pd.Series | None) -> Iterable[
    tuple[str, str, pd.Series]
]:
    import pandas as pd

    region_values = regions if regions is not None else pd.Series("", index=instants.index)
    valid = instants.notna() & timezones.notna()
    frame = pd.DataFrame({"instant": instants[valid], "tz": timezones[valid].astype(str),
                          "region": region_values[valid].fillna("").astype(str)})
    for (tz, region), group in frame.groupby(["tz", "region"], sort=False):
        yield str(tz), str(region), group["instant"]


def _years(local: pd.Series, extra_days: int) -> range:
    first = int(local.dt.year.min())
    last = int(local.dt.year.max()) + extra_days // 200 + 1
    return range(first, last + 1)


def add_business_days(
    instants: pd.Series, days: int, timezones: pd.Series, regions: pd.Series | None = None,
    calendars: Calendars = NO_HOLIDAYS,
) -> pd.Series:
    """Each instant plus `days` business days, counted on its local calendar.

    A local date that is not a business day first rolls forward to the next business day;
    the local time of day is kept (across a DST change too). Instants are UTC timestamps;
    the result is UTC as well, NaT where the instant or the time zone is missing.
    """
    import numpy as np
    import pandas as pd

    result = pd.Series(pd.NaT, index=instants.index, dtype="datetime64[ns, UTC]")
    for tz, region, group in _groups(instants, timezones, regions):
        local = group.dt.tz_convert(tz).dt.tz_localize(None)
        local_dates = local.dt.normalize()
        time_of_day = local - local_dates
        shifted = np.busday_offset(local_dates.to_numpy(dtype="datetime64[D]"), days, roll="forward",
                                   holidays=calendars.holidays(region, _years(local, days)))
        naive = pd.Series(pd.to_datetime(shifted), index=group.index) + time_of_day
        result.loc[group.index] = naive.dt.tz_localize(tz, nonexistent="shift_forward", ambiguous=False).dt.tz_convert(
            "UTC")
    return result


def add_calendar_days(instants: pd.Series, days: int) -> pd.Series:
    import pandas as pd

    return instants + pd.Timedelta(days=days)


def business_days_between(
    starts: pd.Series, end: pd.Timestamp, timezones: pd.Series, regions: pd.Series | None = None,
    calendars: Calendars = NO_HOLIDAYS,
) -> pd.Series:
    """Whole business days from each start's local date to the end's local date (0 if end <= start)."""
    import numpy as np
    import pandas as pd

    result = pd.Series(0, index=starts.index, dtype="int64")
    for tz, region, group in _groups(starts, timezones, regions):
        local = group.dt.tz_convert(tz).dt.tz_localize(None)
        start_dates = local.dt.normalize().to_numpy(dtype="datetime64[D]")
        end_date = np.datetime64(end.tz_convert(tz).tz_localize(None).normalize().date(), "D")
        years = range(int(local.dt.year.min()), end.year + 1)
        counts = np.busday_count(start_dates, end_date, holidays=calendars.holidays(region, years))
        result.loc[group.index] = np.maximum(counts, 0)
    return result


def local_day_start(dates: pd.Series, timezones: pd.Series) -> pd.Series:
    """The UTC instant at which each (UTC-midnight-encoded) date begins in the row's time zone."""
    import numpy as np
    import pandas as pd

    result = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]")
    valid = (dates.notna() & timezones.notna()).to_numpy()
    if valid.any():
        # the UTC calendar day of every row at once, then one localisation per zone, placed by
        # position (not a label lookup per group: this runs per week of the trend and per rule)
        days = dates[valid].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize().to_numpy()
        codes, zones = pd.factorize(timezones[valid].astype(str).to_numpy())
        positions = np.flatnonzero(valid)
        for code, zone in enumerate(zones):
            mine = codes == code
            starts = pd.DatetimeIndex(days[mine]).tz_localize(str(zone), nonexistent="shift_forward",
                                                              ambiguous=False)
            result[positions[mine]] = starts.tz_convert("UTC").tz_localize(None).as_unit("ns").to_numpy()
    return pd.Series(result, index=dates.index).dt.tz_localize("UTC")


def next_working_instant(instant: pd.Timestamp, timezone: str, region: str, start: time, end: time,
                         calendars: Calendars = NO_HOLIDAYS) -> pd.Timestamp:
    """The first instant at or after `instant` inside local working hours on a business day (UTC)."""
    import numpy as np
    import pandas as pd

    local = instant.tz_convert(timezone)
    holidays = calendars.holidays(region, range(local.year, local.year + 2))
    day = np.datetime64(local.date(), "D")
    if not np.is_busday(day, holidays=holidays):  # a weekend or holiday: the next business morning
        next_day = np.busday_offset(day, 0, roll="forward", holidays=holidays)
        return _at(pd.Timestamp(next_day).date(), start, timezone)
    if local.time() < start:
        return _at(local.date(), start, timezone)
    if local.time() < end:
        return instant.tz_convert("UTC")
    next_day = np.busday_offset(day, 1, roll="forward", holidays=holidays)
    return _at(pd.Timestamp(next_day).date(), start, timezone)


def _at(day: date, at: time, timezone: str) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp.combine(day, at).tz_localize(timezone, nonexistent="shift_forward",
                                                     ambiguous=False).tz_convert("UTC")
