import factory
from factory.django import DjangoModelFactory

from apu.models import Municipality, User

TEST_PASSWORD = "correct-horse-battery-staple"


def municipality(code: str) -> Municipality:
    """A municipality loaded by the data migration, by its official code."""
    return Municipality.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="da_DK")
    last_name = factory.Faker("last_name", locale="da_DK")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = User.Role.CLINICIAN
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CoordinatorFactory(UserFactory):
    role = User.Role.COORDINATOR
    municipality = factory.LazyFunction(lambda: municipality("151"))
