"""The contact center's pages and the web chat's public side."""

from django.urls import path

from contacts import views, visitor_views

urlpatterns = [
    path("contacts/", views.queue, name="contacts-queue"),
    path("contacts/supervisor/", views.supervisor, name="contacts-supervisor"),
    path("contacts/<int:pk>/", views.contact_page, name="contacts-contact"),
    path("contacts/<int:pk>/files/<int:seq>/", views.attachment, name="contacts-attachment"),
    path("reports/contacts/", views.contact_report, name="contacts-report"),
    path("chat/widget.js", visitor_views.widget_js, name="chat-widget"),
    path("chat/api/config/", visitor_views.config, name="chat-config"),
    path("chat/api/start/", visitor_views.start, name="chat-start"),
    path("chat/api/offline/", visitor_views.offline, name="chat-offline"),
    path("chat/api/messages/", visitor_views.messages, name="chat-messages"),
    path("chat/api/identify/", visitor_views.identify, name="chat-identify"),
    path("chat/api/photo/", visitor_views.photo, name="chat-photo"),
    path("chat/demo/<slug:slug>/", visitor_views.demo, name="chat-demo"),
]
