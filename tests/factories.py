from __future__ import annotations

import factory

from classroom.models import SchoolClass, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.STUDENT
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy's signature
        if create:
            obj.save()


class StudentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"student{n}")
    role = User.Role.STUDENT


class TeacherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"teacher{n}")
    role = User.Role.TEACHER


class HeadFactory(UserFactory):
    username = factory.Sequence(lambda n: f"head{n}")
    role = User.Role.HEAD


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"10{chr(65 + n % 26)} History")
    year_group = 10

    @factory.post_generation
    def teachers(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.teachers.add(*extracted)

    @factory.post_generation
    def students(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            for student in extracted:
                obj.enrol(student)
