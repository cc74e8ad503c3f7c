"""Business-day arithmetic in each team's time zone, vectorised with numpy.

Weekends are Saturday and Sunday. Holidays are an explicit list of local dates so the
callers (and later the policy's holiday calendars) decide which days do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def add_business_days(
    instants: pd.Series, days: int, timezones: pd.Series, holidays: Iterable[str] = ()
) -> pd.Series:
    """Each instant plus `days` business days, counted on its local calendar.

    A local date on a weekend or holiday first rolls forward to the next business day; the
    local time of day is kept. Instants are UTC timestamps; the result is UTC as well.
    """
    import numpy as np
    import pandas as pd

    result = pd.Series(pd.NaT, index=instants.index, dtype="datetime64[ns, UTC]")
    holiday_list = np.array(sorted(holidays), dtype="datetime64[D]")
    valid = instants.notna() & timezones.notna()
    for tz, group in instants[valid].groupby(timezones[valid]):
        local = group.dt.tz_convert(str(tz))
        local_dates = local.dt.tz_localize(None).dt.normalize()
        time_of_day = local.dt.tz_localize(None) - local_dates
        shifted = np.busday_offset(
            local_dates.to_numpy(dtype="datetime64[D]"), days, roll="forward", holidays=holiday_list
        )
        naive = pd.Series(pd.to_datetime(shifted), index=group.index) + time_of_day
        result.loc[group.index] = naive.dt.tz_localize(str(tz), nonexistent="shift_forward", ambiguous=False).dt.tz_convert(
            "UTC"
        )
    return result


def business_days_between(
    starts: pd.Series, end: pd.Timestamp, timezones: pd.Series, holidays: Iterable[str] = ()
) -> pd.Series:
    """Whole business days from each start's local date to the end's local date (0 if end <= start)."""
    import numpy as np
    import pandas as pd

    result = pd.Series(0, index=starts.index, dtype="int64")
    holiday_list = np.array(sorted(holidays), dtype="datetime64[D]")
    valid = starts.notna() & timezones.notna()
    for tz, group in starts[valid].groupby(timezones[valid]):
        start_dates = group.dt.tz_convert(str(tz)).dt.tz_localize(None).dt.normalize().to_numpy(dtype="datetime64[D]")
        end_date = np.datetime64(end.tz_convert(str(tz)).tz_localize(None).normalize().date(), "D")
        counts = np.busday_count(start_dates, end_date, holidays=holiday_list)
        result.loc[group.index] = np.maximum(counts, 0)
    return result
