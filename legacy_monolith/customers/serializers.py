from rest_framework import serializers

from .models import Contact, Customer


class ContactSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "username", "email", "first_name", "last_name", "job_title", "phone"]


class CustomerSerializer(serializers.ModelSerializer):
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "account_number", "company_name", "vat_number", "email", "phone", "address", "city",
            "country", "tier", "credit_limit", "active", "contacts", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_credit_limit(self, value):
        if value < 0:
            raise serializers.ValidationError("Ensure this value is greater than or equal to 0.")
        return value
