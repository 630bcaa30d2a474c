"""The contact center's API (`/api/v1/contacts/…`): the queue, a contact with its conversation,
take next, reply, status, reassign, the customer matched, a request made from a contact, and the
operator's presence. Thin: validate → service or selector → serialize."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasRole, tenants_served
from contacts import services
from contacts.campaigns import campaign_counts, campaign_create, campaign_launch
from contacts.kpi_selectors import contact_kpis
from contacts.models import Campaign, Contact, OperatorProfile
from contacts.selectors import (
    CONTACT_ROLES,
    LANGUAGES_SERVED,
    OPERATOR_ROLES,
    SUPERVISOR_ROLES,
    contact_payload,
    get_contact_for_user,
    message_payload,
    messages_of,
    profile_for,
    queue_for,
)
from core.api import TenantScoped, error_responses
from core.errors import NotFound
from reports.api import KpiQuerySerializer, kpi_query
from reports.selectors import REPORT_ROLES, report_tenant_for_user
from requests_app.models import Customer, ServiceRequest


class ContactSerializer(serializers.Serializer):
    """A contact as the queues show it, with its client's name and colour."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    tenant = serializers.IntegerField()
    client = serializers.CharField()
    client_colour = serializers.CharField()
    channel = serializers.ChoiceField(Contact.Channel.choices)
    status = serializers.ChoiceField(Contact.Status.choices)
    priority = serializers.IntegerField()
    language = serializers.CharField()
    customer = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField()
    sender = serializers.CharField()
    subject = serializers.CharField()
    offline = serializers.BooleanField()
    sla_due = serializers.DateTimeField()
    assigned_to = serializers.IntegerField(allow_null=True)
    assigned_name = serializers.CharField()
    request = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class MessageSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    direction = serializers.CharField()
    body = serializers.CharField()
    author = serializers.CharField()
    attachment = serializers.BooleanField()
    attachment_type = serializers.CharField()
    at = serializers.DateTimeField()


class ContactDetailSerializer(ContactSerializer):
    messages = MessageSerializer(many=True)


class QueueQuery(serializers.Serializer):
    tenant = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(Contact.Status.choices, required=False)
    mine = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)


class MessagesQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0, max_value=2**31)


class ReplyBody(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY)


class StatusBody(serializers.Serializer):
    status = serializers.ChoiceField(Contact.Status.choices)


class AssignBody(serializers.Serializer):
    operator = serializers.IntegerField(allow_null=True, min_value=1)


class CustomerBody(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1)
    phone = serializers.CharField(required=False, max_length=32)
    account_number = serializers.CharField(required=False, max_length=40)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError({"phone": [_("Give a phone or an account number.")]})
        return data


class RequestBody(serializers.Serializer):
    kind = serializers.ChoiceField(ServiceRequest.Kind.choices)
    category = serializers.ChoiceField(ServiceRequest.Category.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    estimated_minutes = serializers.IntegerField(required=False, min_value=15, max_value=480)
    window_start = serializers.DateTimeField(required=False)
    window_end = serializers.DateTimeField(required=False)


class CreatedRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()


class PresenceSerializer(serializers.Serializer):
    presence = serializers.ChoiceField(OperatorProfile.Presence.choices)
    languages = serializers.ListField(
        child=serializers.ChoiceField(LANGUAGES_SERVED), required=False, max_length=3
    )


def _detail(contact: Contact) -> dict:
    messages = [message_payload(message) for message in messages_of(contact)]
    return {**contact_payload(contact), "messages": messages}


class ContactView(TenantScoped, APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*CONTACT_ROLES)]

    def contact(self, request, pk: int) -> Contact:
        return get_contact_for_user(request.user, pk)


class ContactQueueView(ContactView):
    @extend_schema(
        parameters=[QueueQuery],
        responses={200: ContactSerializer(many=True), **error_responses(400)},
    )
    def get(self, request):
        """Open contacts of the clients the user answers for, most urgent first."""
        query = QueueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        statuses = (data["status"],) if data.get("status") else None
        contacts = queue_for(
            request.user,
            tenant_id=data.get("tenant"),
            mine=data["mine"],
            limit=data["limit"],
            **({"statuses": statuses} if statuses else {}),
        )
        return Response([contact_payload(contact) for contact in contacts])


class ContactDetailView(ContactView):
    @extend_schema(responses={200: ContactDetailSerializer, **error_responses(404)})
    def get(self, request, pk: int):
        return Response(_detail(get_contact_for_user(request.user, pk, full=True)))


class ContactMessagesView(ContactView):
    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Last message number seen.")],
        responses={200: MessageSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, pk: int):
        contact = self.contact(request, pk)
        query = MessagesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        return Response([message_payload(m) for m in messages_of(contact, after=after)])


class TakeNextView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(request=None, responses={200: ContactSerializer, 204: None, **error_responses()})
    def post(self, request):
        """The most urgent new contact of the operator's clients and languages, now theirs."""
        contact = services.contact_take_next(operator=request.user)
        if contact is None:
            return Response(status=204)
        return Response(contact_payload(contact))


class ReplyView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(
        request=ReplyBody, responses={201: MessageSerializer, **error_responses(400, 404, 409, 415)}
    )
    def post(self, request, pk: int):
        contact = self.contact(request, pk)
        body = ReplyBody(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.contact_reply(
            contact=contact, author=request.user, body=body.validated_data["body"]
        )
        return Response(message_payload(message), status=201)


class StatusView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(
        request=StatusBody, responses={200: ContactSerializer, **error_responses(400, 404, 415)}
    )
    def post(self, request, pk: int):
        contact = self.contact(request, pk)
        body = StatusBody(data=request.data)
        body.is_valid(raise_exception=True)
        contact = services.status_set(
            contact=contact,
            status=body.validated_data["status"],
            actor=request.user,
        )
        return Response(contact_payload(contact))


class AssignView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*SUPERVISOR_ROLES)]

    @extend_schema(
        request=AssignBody,
        responses={200: ContactSerializer, **error_responses(400, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        """A supervisor gives the contact to an operator (null: back to the queue)."""
        contact = self.contact(request, pk)
        body = AssignBody(data=request.data)
        body.is_valid(raise_exception=True)
        operator = None
        if body.validated_data["operator"] is not None:
            operator = User.objects.filter(
                pk=body.validated_data["operator"], role__in=OPERATOR_ROLES, is_active=True
            ).first()
            if operator is None:
                raise serializers.ValidationError({"operator": [_("No such operator.")]})
        contact = services.contact_assign(contact=contact, operator=operator, actor=request.user)
        return Response(contact_payload(contact))


class CustomerView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(
        request=CustomerBody, responses={200: ContactSerializer, **error_responses(400, 404, 415)}
    )
    def post(self, request, pk: int):
        """Match the contact to a customer of its client: by id, phone or account number."""
        contact = self.contact(request, pk)
        body = CustomerBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = None
        if "customer" in data:
            customer = (
                Customer.objects.for_tenant(contact.tenant_id).filter(pk=data["customer"]).first()
            )
            if customer is None:
                raise serializers.ValidationError({"customer": [_("No such customer.")]})
        found = services.contact_match_customer(
            contact=contact,
            customer=customer,
            phone=data.get("phone", ""),
            account_number=data.get("account_number", ""),
            actor=request.user,
        )
        if found is None:
            raise NotFound(_("No customer of this client matches."))
        return Response(contact_payload(self.contact(request, pk)))


class RequestFromContactView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(
        request=RequestBody,
        responses={201: CreatedRequestSerializer, **error_responses(400, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        """A request from the contact: an emergency, or a planned visit booked in a window;
        the conversation is attached to the request's history."""
        contact = self.contact(request, pk)
        body = RequestBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        window = None
        if data.get("window_start") and data.get("window_end"):
            window = (data["window_start"], data["window_end"])
        with transaction.atomic():
            created = services.contact_request_create(
                contact=contact,
                actor=request.user,
                kind=data["kind"],
                category=data["category"],
                description=data.get("description", ""),
                estimated_minutes=data.get("estimated_minutes", 60),
                window=window,
            )
        return Response(
            {"id": created.pk, "number": created.number, "status": created.status}, status=201
        )


class PresenceView(ContactView):
    permission_classes = [IsAuthenticated, HasRole.of(*OPERATOR_ROLES)]

    @extend_schema(responses={200: PresenceSerializer, **error_responses()})
    def get(self, request):
        profile = profile_for(request.user)
        if profile is None:
            return Response({"presence": OperatorProfile.Presence.AWAY, "languages": []})
        return Response({"presence": profile.presence, "languages": profile.languages})

    @extend_schema(
        request=PresenceSerializer, responses={200: PresenceSerializer, **error_responses(400, 415)}
    )
    def put(self, request):
        body = PresenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        profile = services.presence_set(
            user=request.user,
            presence=body.validated_data["presence"],
            languages=body.validated_data.get("languages"),
        )
        return Response({"presence": profile.presence, "languages": profile.languages})


class ContactKpisView(TenantScoped, APIView):
    """The contact center's work measured for a client and period (default: the last 30 days):
    first response, handling time, contacts per operator-hour, backlog, SLA met per channel,
    contacts that became requests, repeat contacts (definitions in `contacts.kpi_selectors`)."""

    permission_classes = [IsAuthenticated, HasRole.of(*REPORT_ROLES)]

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 404)},
    )
    def get(self, request):
        f, tenant, _data = kpi_query(request)
        figures = contact_kpis(tenant_id=tenant.pk, start=f.start, end=f.end)
        return Response({"tenant": tenant.pk, "client": tenant.name, **figures})


class CampaignBody(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(Campaign.Channel.choices)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=4000)
    customers = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=10000,
        help_text=_("The customers to reach (default: every customer of the client)."),
    )
    tenant = serializers.IntegerField(
        required=False, min_value=1, help_text=_("A client the user serves (default: theirs).")
    )


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent = serializers.IntegerField()
    scheduled = serializers.IntegerField()
    skipped = serializers.IntegerField()


def _campaign_row(campaign: Campaign, counts: dict) -> dict:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "channel": campaign.channel,
        "created_at": campaign.created_at,
        **{key: counts.get(key, 0) for key in ("sent", "scheduled", "skipped")},
    }


class CampaignsView(TenantScoped, APIView):
    """Outbound SMS and e-mail campaigns on a client's behalf (through the notification outbox,
    with opt-out and quiet hours)."""

    permission_classes = [IsAuthenticated, HasRole.of(*SUPERVISOR_ROLES)]

    @extend_schema(responses={200: CampaignSerializer(many=True), **error_responses()})
    def get(self, request):
        tenant_ids = [t.pk for t in tenants_served(request.user)]
        found = Campaign.objects.filter(tenant_id__in=tenant_ids).order_by("-created_at")[:100]
        counts = campaign_counts([campaign.pk for campaign in found])
        return Response([_campaign_row(c, counts.get(c.pk, {})) for c in found])

    @extend_schema(
        request=CampaignBody,
        responses={201: CampaignSerializer, **error_responses(400, 404, 415)},
    )
    def post(self, request):
        body = CampaignBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = report_tenant_for_user(request.user, data.get("tenant"))
        customers = None
        if "customers" in data:
            wanted = set(data["customers"])
            customers = list(Customer.objects.for_tenant(tenant).filter(pk__in=wanted))
            if len(customers) != len(wanted):
                raise serializers.ValidationError({"customers": [_("No such customer.")]})
        with transaction.atomic():
            campaign = campaign_create(
                tenant=tenant,
                name=data["name"],
                channel=data["channel"],
                subject=data["subject"],
                body=data["body"],
                actor=request.user,
            )
            counts = campaign_launch(campaign=campaign, customers=customers)
        return Response(_campaign_row(campaign, counts), status=201)
