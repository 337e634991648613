"""Foreign keys, one-to-ones and many-to-manys from one app's models to another app's, read from Django's
model registry (`apps.get_models()`, `field.related_model`).

For whoever plans an extraction: each link is a join the extracted service can no longer make in SQL,
and data it has to get another way (an API call, a synced copy, an id kept without a constraint).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelLink:
    """`source` (app.Model) holds `field`, a relation of `kind` to `target` (app.Model) in another app."""

    source: str
    field: str
    kind: str       # ForeignKey, OneToOneField, ManyToManyField
    target: str
    source_app: str
    target_app: str

    @property
    def label(self) -> str:
        """`inventory.StockItem.product`: the field, named as a reason would name it."""
        return f"{self.source}.{self.field}"

    def as_dict(self) -> dict:
        return {"source": self.source, "field": self.field, "kind": self.kind, "target": self.target,
                "source_app": self.source_app, "target_app": self.target_app}


def cross_app_model_links(registry, app_labels) -> tuple[ModelLink, ...]:
    """Forward relations declared by models of `app_labels` that point into any other app.

    Targets outside `app_labels` (auth.User, contenttypes) are included: the extraction needs them
    too, even though those apps are not candidates themselves. Reverse relations are not listed
    twice: each link appears once, on the model that declares the field.
    """
    wanted = set(app_labels)
    links = []
    for model in registry.get_models():
        meta = model._meta
        if meta.app_label not in wanted:
            continue
        for field in (*meta.fields, *meta.many_to_many):
            target = field.related_model
            if not field.is_relation or target is None or isinstance(target, str):
                continue
            if target._meta.app_label == meta.app_label:
                continue
            links.append(ModelLink(
                source=f"{meta.app_label}.{meta.object_name}", field=field.name,
                kind=field.get_internal_type(), target=f"{target._meta.app_label}.{target._meta.object_name}",
                source_app=meta.app_label, target_app=target._meta.app_label))
    return tuple(links)
