from __future__ import annotations

import factory

from performers.choices import SourceKind
from performers.models import Performer, PerformerAlias, PerformerUrl, Source, StashId

STASHDB = "https://stashdb.org/graphql"


class SourceFactory(factory.django.DjangoModelFactory[Source]):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = SourceKind.STASHBOX
    url = factory.Sequence(lambda n: f"https://box{n}.example/graphql")
    api_key = "secret-key-value"


class PerformerFactory(factory.django.DjangoModelFactory[Performer]):
    class Meta:
        model = Performer

    name = factory.Faker("name")


class StashIdFactory(factory.django.DjangoModelFactory[StashId]):
    class Meta:
        model = StashId

    performer = factory.SubFactory(PerformerFactory)
    endpoint = STASHDB
    stash_id = factory.Faker("uuid4")


class AliasFactory(factory.django.DjangoModelFactory[PerformerAlias]):
    class Meta:
        model = PerformerAlias

    performer = factory.SubFactory(PerformerFactory)
    name = factory.Faker("first_name")
    normalized = factory.LazyAttribute(lambda o: o.name.lower())


class UrlFactory(factory.django.DjangoModelFactory[PerformerUrl]):
    class Meta:
        model = PerformerUrl

    performer = factory.SubFactory(PerformerFactory)
    url = factory.Sequence(lambda n: f"https://twitter.com/someone{n}")
