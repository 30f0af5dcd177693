"""Holiday calendars behind the ``HolidayCalendar`` port."""

from doorstep.adapters.calendar.chinese import ChineseHolidayCalendar

__all__ = ["ChineseHolidayCalendar"]
