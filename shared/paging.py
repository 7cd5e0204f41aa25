"""Every list of the API is paged the same way: `page` (from 1) and `per_page` (1 to
MAX_PER_PAGE) in, {items, total, page, per_page} out."""
from sqlalchemy import func, select

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


def bounds(query):
    """(page, per page) asked for, within bounds (a service checks what any caller sends)."""
    number = max(1, int(query.get("page", 1)))
    per_page = max(1, min(int(query.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE))
    return number, per_page


def page(items, total, number, per_page):
    return {"items": items, "total": total, "page": number, "per_page": per_page}


def read_page(session, query, rows, view=lambda row: row):
    """One page of a select (`rows`), shown with `view`, and how many rows it has in all."""
    number, per_page = bounds(query)
    total = session.scalar(select(func.count()).select_from(rows.order_by(None).subquery()))
    items = session.execute(rows.limit(per_page).offset((number - 1) * per_page))
    one_entity = len(rows.column_descriptions) == 1
    shown = [view(row) for row in (items.scalars() if one_entity else items)]
    return page(shown, total, number, per_page)
