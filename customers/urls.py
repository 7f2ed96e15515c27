from django.urls import path

from . import views, views_chain, views_plan, views_thresholds

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("focus/", views.focus, name="focus"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("export.xlsx", views.export_xlsx, name="export-xlsx"),
    path("import/", views.import_values, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import-detail"),
    path("analyse/", views.analyse, name="analyse"),
    path("thresholds/", views_thresholds.thresholds_page, name="thresholds"),
    path("backtest/", views.backtest_request, name="backtest"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/actor/", views.customer_link_actor, name="link-actor"),
    path("chain/<int:pk>/", views_chain.chain_customers, name="chain-customers"),
    path("chain/<int:pk>/plan/", views_plan.chain_plan_view, name="chain-plan"),
]
